"""leadwire's own tables (flows, connections, leads, runs): the app store.

Each noun has its module here; importing this package registers all of them on `AppBase`.
"""

from leadwire.store.models.base import AppBase
from leadwire.store.models.connections import ConnectionRow  # noqa: F401
from leadwire.store.models.flows import FlowRow, FlowVersionRow  # noqa: F401
from leadwire.store.models.hooks import PinterestHookRow  # noqa: F401
from leadwire.store.models.polling import PollCursorRow  # noqa: F401
from leadwire.store.models.runs import RunRow  # noqa: F401
from leadwire.store.models.triggers import CrmHookRow, ScheduleStateRow  # noqa: F401

__all__ = ["AppBase"]
