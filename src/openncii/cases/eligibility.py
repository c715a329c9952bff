"""The five eligibility questions (as StopNCII asks them) and the help offered on a "no"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from openncii.errors import NotEligibleError

__all__ = ["HELP_URLS", "QUESTIONS", "Eligibility", "check_eligibility"]

#: Where to get help instead, by case.
HELP_URLS: Final = {
    "take_it_down": "https://takeitdown.ncmec.org/",
    "helplines": "https://revengepornhelpline.org.uk/",
}

#: Wire names of the questions, in the order they are checked.
QUESTIONS: Final = ("adult_when_taken", "adult_now", "in_image", "intimate", "has_content")


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The person's answers; every one must be ``True`` to open a case."""

    in_image: bool
    adult_when_taken: bool
    adult_now: bool
    has_content: bool
    intimate: bool


_REFUSALS: Final = {
    "adult_when_taken": (
        "Thank you for reaching out. Because you were under 18 when this was taken, the right "
        "place is NCMEC's Take It Down, which works with the same companies to remove images "
        "of people under 18. You are not in trouble, and you do not have to do this alone.",
        HELP_URLS["take_it_down"],
    ),
    "adult_now": (
        "Thank you for reaching out. This service is for people aged 18 or over. NCMEC's Take It "
        "Down helps people under 18 remove intimate images, and it is free and anonymous.",
        HELP_URLS["take_it_down"],
    ),
    "in_image": (
        "Only the person shown in an image can open a case for it. If you are supporting someone, "
        "they can open a case themselves, and a helpline can advise you both.",
        HELP_URLS["helplines"],
    ),
    "intimate": (
        "This service is for nude, semi-nude or sexual images and videos. For other images "
        "shared without your consent, report them on the platform where they appear; a helpline "
        "can help you do that.",
        HELP_URLS["helplines"],
    ),
    "has_content": (
        "Fingerprints are made from the image or video itself, on your own device, so you need a "
        "copy of it. If you no longer have it, a helpline can help you report it where it was "
        "shared.",
        HELP_URLS["helplines"],
    ),
}


def check_eligibility(answers: Eligibility) -> None:
    """Raise :class:`NotEligibleError` with a kind message for the first "no" answer."""
    for question in QUESTIONS:
        if not getattr(answers, question):
            message, url = _REFUSALS[question]
            raise NotEligibleError(message, question=question, help_url=url)
