"""Model fields of our own."""

import orjson
from django.db import models


class FastJSONField(models.JSONField):
    """A JSONField decoded with orjson.

    Relating reads the term vectors of a hundred candidates an article, and
    json.loads was a sizeable share of that; orjson decodes several times
    faster (bench/NOTES-related.md). Anything orjson cannot read goes to
    JSONField's own decoding.
    """

    def from_db_value(self, value, expression, connection):
        if isinstance(value, str) and self.decoder is None:
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
        return super().from_db_value(value, expression, connection)
