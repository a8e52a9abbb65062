"""Evidence: safe fetching, captures of reported pages, the sealed media store, media checks."""
