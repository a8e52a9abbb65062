"""Notice and takedown: telling hosting providers about child sexual abuse material."""
