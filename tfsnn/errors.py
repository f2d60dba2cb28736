"""Errors a user can cause. The CLI prints their message (one sentence: the cause and the fix) and exits 2."""


class TfsnnError(Exception):
    """A problem with the user's input: configuration, data, checkpoint or arguments."""


class DataError(TfsnnError):
    """A dataset that is missing, incomplete or not what its name says."""


class WriteError(TfsnnError):
    """A result, checkpoint or cache that could not be written: a full disk, a read-only or forbidden folder."""
