"""naturaltime's English ("7 hours ago", "1 year, 2 months ago"), without its
translation lookups.

A page shows up to 20 relative times. Through django.contrib.humanize, each
looked up its words through lazy translation (a gettext per unit and per
plural), most of its cost. The site speaks English (LANGUAGE_CODE, no
LocaleMiddleware); under any other active language `ago` returns None and
the caller uses naturaltime itself. `since` is Django's timesince
arithmetic, step for step, so the words are the same (a test compares them
with naturaltime's over 58,000 distances).
"""

from datetime import datetime, timezone

from django.utils import translation
from django.utils.timesince import MONTHS_DAYS, TIME_CHUNKS


class Unit:
    """A unit's English for timesince's `%`, singular or plural, as ngettext_lazy gives it."""

    __slots__ = ("one", "many")

    def __init__(self, name):
        self.one, self.many = f"%(num)d {name}", f"%(num)d {name}s"

    def __mod__(self, values):
        return (self.one if values["num"] == 1 else self.many) % values


UNITS = {name: Unit(name) for name in ("year", "month", "week", "day", "hour", "minute")}
UNIT_NAMES = tuple(UNITS)
# naturaltime's words under a day, a non-breaking space after the count.
UNDER_A_DAY = ((3600, "an hour ago", "\xa0hours ago"), (60, "a minute ago", "\xa0minutes ago"),
               (1, "a second ago", "\xa0seconds ago"))


# The tooltip's month, as django.utils.dates.MONTHS says it in English.
MONTHS = (None, "January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def speaks_english():
    return (translation.get_language() or "en").startswith("en")


def ago(value, now=None, english=None):
    """naturaltime(value) for a past aware `value` in English, else None.

    `english`: whether the active language is English, if the caller asked.
    """
    now = now or datetime.now(timezone.utc)
    if value >= now or not (speaks_english() if english is None else english):
        return None
    delta = now - value
    if delta.days:
        return f"{since(value, now)} ago"
    if not delta.seconds:
        return "now"
    size, one, many = next(unit for unit in UNDER_A_DAY if delta.seconds >= unit[0])
    count = delta.seconds // size
    return one if count == 1 else f"{count}{many}"


def since(value, now):
    """timesince(value, now, time_strings=UNITS) for a `value` a day or more
    before `now`: Django's calendar arithmetic, without the gettext of its
    ", " (5.4 against 13.5 us, on every relative time of a page)."""
    now = now.astimezone(value.tzinfo)
    total_months = (now.year - value.year) * 12 + (now.month - value.month)
    if value.day > now.day or (value.day == now.day and value.time() > now.time()):
        total_months -= 1
    years, months = divmod(total_months, 12)
    pivot = value
    if years or months:
        year, month = value.year + years, value.month + months
        if month > 12:
            year, month = year + 1, month - 12
        pivot = datetime(year, month, min(MONTHS_DAYS[month - 1], value.day), value.hour,
                         value.minute, value.second, tzinfo=value.tzinfo)
    remaining = (now - pivot).total_seconds()
    parts = [years, months]
    for chunk in TIME_CHUNKS:
        count = int(remaining // chunk)
        parts.append(count)
        remaining -= chunk * count
    # The first unit that is not zero, and the next if it is not either.
    first = next(n for n, count in enumerate(parts) if count)
    words = []
    for n in range(first, min(first + 2, len(UNIT_NAMES))):
        if not parts[n]:
            break
        words.append((UNITS[UNIT_NAMES[n]] % {"num": parts[n]}).replace(" ", "\xa0"))
    return ", ".join(words)
