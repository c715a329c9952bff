"""OpenNCII for python-threatexchange and Meta's Hasher-Matcher-Actioner (HMA).

Install it beside them (``pip install 'openncii[threatexchange]'``) and load it the way their
extensions are loaded::

    threatexchange config extensions add openncii.integrations.threatexchange

It brings the ``openncii`` exchange (:class:`OpenNCIISignalExchangeAPI`: the partner feed,
withdrawn and deleted hashes removed, feedback sent back) and the ``openncii_vpdq`` signal type
(:class:`OpenNCIIVideoPdqSignal`: vPDQ without the C++ ``vpdq`` package). Set-up for the CLI and
for HMA: ``docs/partners.md``.
"""

from __future__ import annotations

from threatexchange.extensions.manifest import ThreatExchangeExtensionManifest

from openncii.integrations.threatexchange._config import (
    API_NAME,
    OpenNCIICollabConfig,
    OpenNCIICredentials,
)
from openncii.integrations.threatexchange.exchange import (
    OpenNCIICheckpoint,
    OpenNCIIFeedback,
    OpenNCIISignalExchangeAPI,
    OpenNCIISignalMetadata,
)
from openncii.integrations.threatexchange.vpdq import OpenNCIIVideoPdqSignal

__all__ = [
    "API_NAME",
    "TX_MANIFEST",
    "OpenNCIICheckpoint",
    "OpenNCIICollabConfig",
    "OpenNCIICredentials",
    "OpenNCIIFeedback",
    "OpenNCIISignalExchangeAPI",
    "OpenNCIISignalMetadata",
    "OpenNCIIVideoPdqSignal",
]

#: What python-threatexchange loads from this module.
TX_MANIFEST = ThreatExchangeExtensionManifest(
    signal_types=(OpenNCIIVideoPdqSignal,),
    apis=(OpenNCIISignalExchangeAPI,),
)
