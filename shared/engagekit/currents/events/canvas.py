"""Canvas (journey) entries and exits, campaign and canvas conversions (braze-api.md §6)."""

from __future__ import annotations

from typing import Literal

from engagekit.currents.events.base import _UserEvent


class CanvasEntry(_UserEvent):
    """``users.canvas.Entry``: a user entered a canvas (journey) (braze-api.md §6)."""

    VIEW = "canvas_entries"
    event_type: Literal["users.canvas.Entry"] = "users.canvas.Entry"
    timezone: str | None = None
    app_group_id: str | None = None
    canvas_id: str
    canvas_name: str | None = None
    canvas_variation_id: str
    canvas_variation_name: str | None = None
    canvas_step_id: str | None = None
    canvas_step_name: str | None = None
    in_control_group: bool = False


class _CanvasExit(_UserEvent):
    app_group_id: str | None = None
    canvas_id: str
    canvas_name: str | None = None
    canvas_variation_id: str
    canvas_variation_name: str | None = None
    canvas_step_id: str | None = None
    canvas_step_name: str | None = None


class CanvasExitPerformedEvent(_CanvasExit):
    """``users.canvas.exit.PerformedEvent``: left a canvas by an exit event (§6, §4)."""

    VIEW = "canvas_exits_performed_event"
    event_type: Literal["users.canvas.exit.PerformedEvent"] = "users.canvas.exit.PerformedEvent"


class CanvasExitMatchedAudience(_CanvasExit):
    """``users.canvas.exit.MatchedAudience``: left a canvas by matching exit criteria (§6, §4)."""

    VIEW = "canvas_exits_matched_audience"
    event_type: Literal["users.canvas.exit.MatchedAudience"] = "users.canvas.exit.MatchedAudience"


class CampaignConversion(_UserEvent):
    """``users.campaigns.Conversion``: a conversion event after a campaign (braze-api.md §6)."""

    VIEW = "campaign_conversions"
    event_type: Literal["users.campaigns.Conversion"] = "users.campaigns.Conversion"
    timezone: str | None = None
    app_group_id: str | None = None
    app_id: str | None = None
    campaign_id: str
    campaign_name: str | None = None
    message_variation_id: str | None = None
    message_variation_name: str | None = None
    send_id: str | None = None
    conversion_behavior_index: int | None = None
    conversion_behavior: str | None = None


class CanvasConversion(_UserEvent):
    """``users.canvas.Conversion``: a conversion after a canvas (CE ``users/canvas/Conversion.json``)."""

    VIEW = "canvas_conversions"
    event_type: Literal["users.canvas.Conversion"] = "users.canvas.Conversion"
    timezone: str | None = None
    app_group_id: str | None = None
    app_id: str | None = None
    device_id: str | None = None
    canvas_id: str
    canvas_name: str | None = None
    canvas_variation_id: str | None = None
    canvas_variation_name: str | None = None
    canvas_step_id: str | None = None
    canvas_step_name: str | None = None
    conversion_behavior_index: int | None = None
    conversion_behavior: str | None = None
