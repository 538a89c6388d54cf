"""Chat forms (slot filling) from staff-editable dialog scripts: a pure engine plus tooling.

    from bot.forms import ScriptRegistry, start, step, resume_messages, completion_messages
"""

from bot.forms.effects import Analytics, SubmitForm
from bot.forms.engine import (
    ScriptMismatchError,
    StepResult,
    completion_messages,
    current_question_messages,
    resume_messages,
    start,
    step,
)
from bot.forms.messages import is_form_postback
from bot.forms.registry import InMemorySnapshotStore, ScriptRegistry, SnapshotStore
from bot.forms.script import Script

__all__ = [
    "Analytics", "InMemorySnapshotStore", "Script", "ScriptMismatchError", "ScriptRegistry", "SnapshotStore",
    "StepResult", "SubmitForm", "completion_messages", "current_question_messages", "is_form_postback",
    "resume_messages", "start", "step",
]
