"""What both HTTP services share: the case service (:mod:`openncii.api`) and the partner's
matcher service (:mod:`openncii.partner.matcher_app`).

- :mod:`openncii.serving.errors`: the one place where domain errors become HTTP answers (one
  status per error class) and the one error body, ``{"detail", "code"}``;
- :mod:`openncii.serving.limits`: the request-body size limit (413), as ASGI middleware;
- :mod:`openncii.serving.headers`: the headers of every answer (security headers, no caching
  of JSON answers, HSTS when served over HTTPS), as ASGI middleware.

It imports nothing of OpenNCII but :mod:`openncii.errors`, so both layers may use it (see the
layer picture in ``docs/DESIGN.md``).
"""

from __future__ import annotations
