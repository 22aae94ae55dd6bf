"""The agent's one error type: a reason code and a message a person can act on."""

from __future__ import annotations


class AgentError(Exception):
    """Something the agent cannot do; ``code`` is a stable reason code, ``message`` one clear sentence or two."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Unreachable(AgentError):
    """Passgate could not be reached (network, DNS, TLS, timeout): nothing was refused."""

    def __init__(self, message: str) -> None:
        super().__init__("passgate_unreachable", message)
