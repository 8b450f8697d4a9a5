"""The one exception type for user mistakes (bad bundle, bad dataset, bad CLI argument).

CLIs catch it, print ``error: {e}`` as one line on stderr and exit with status 2.
"""


class QGPError(Exception):
    """A user-facing error: ``str(e) == "{file}: {field}: {message}"``."""

    def __init__(self, file, field, message):
        self.file = str(file)
        self.field = str(field)
        # One line, always: messages are printed as a single stderr line.
        self.message = " ".join(str(message).split())
        super().__init__(self.file, self.field, self.message)

    def __str__(self):
        return f"{self.file}: {self.field}: {self.message}"
