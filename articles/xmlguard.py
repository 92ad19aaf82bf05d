"""Refuse XML documents that declare entities, read up to their root element (defusedxml's rules)."""

from xml.parsers import expat


class EntitiesDeclared(Exception):
    pass


class RootReached(Exception):
    pass


def declares_entities(document: bytes):
    """True when the prolog of `document` (UTF-8, as encoding.feed_as_utf8
    makes it) declares an entity, names an external one, or refers to a
    parameter entity it does not declare.

    The prolog is read whole, however long its comments: entities can only
    be declared before the root element, so reading stops there. A prolog
    expat cannot read is judged by its text instead.
    """
    parser = expat.ParserCreate(encoding="utf-8")
    # Parameter entities are followed so that an undeclared one, which
    # hides every declaration after it from a parser that skips it, is seen.
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_ALWAYS)
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.SkippedEntityHandler = skipped_entity
    parser.ExternalEntityRefHandler = external_entity
    parser.StartElementHandler = root_reached
    try:
        parser.Parse(document, True)
    except RootReached:
        return False
    except EntitiesDeclared:
        return True
    except expat.ExpatError:
        return b"<!entity" in document.lower()
    return False


def refuse(*args):
    raise EntitiesDeclared


def skipped_entity(name, is_parameter_entity):
    if is_parameter_entity:
        raise EntitiesDeclared


def external_entity(context, base, system_id, public_id):
    # context is None for the DOCTYPE's external subset (an RSS 0.91 DTD):
    # not read, not refused. Anything else is an external entity.
    if context is not None:
        raise EntitiesDeclared
    return 1


def root_reached(*args):
    raise RootReached
