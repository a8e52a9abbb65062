"""OpenHotline: an internet hotline against child sexual abuse material, end to end."""
