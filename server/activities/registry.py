"""The built-in werkvormen, registered by kind (imported by `base.get`)."""

from server.activities.base import register
from server.activities.circle import CIRCLE
from server.activities.dotvote import DOTVOTE
from server.activities.themaquiz import THEMAQUIZ

register(THEMAQUIZ)
register(CIRCLE)
register(DOTVOTE)
