"""Errors a user can cause and fix. The CLI prints their message as one line and exits 2."""


class QAError(Exception):
    """Base class: a user-facing problem with a one-line, actionable message."""


class BadQuestion(QAError):
    pass


class DocumentError(QAError):
    pass


class IndexError_(QAError):
    """The persisted index is missing, corrupt or from another format."""


class ModelMissing(QAError):
    pass


class BackendError(QAError):
    """The model server named by QA_LLM_URL (qa/remote.py) failed: not running, wrong URL, a refused key,
    an unknown model, a timeout, a stream cut off halfway, a prompt longer than its context."""
