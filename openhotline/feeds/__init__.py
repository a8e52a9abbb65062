"""Member data feeds: the URL List, Hash List, Keyword List and alert lists as signed,
resumable snapshots and deltas."""
