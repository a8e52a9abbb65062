"""The case as a whole, read across every stage: for staff (the inbox, the case page,
search, the cases API) and for its reporters (the public outcome, their mails). The top
layer: it may read every app, and none imports it (lower stages reach it only through
`openhotline.pipeline`)."""
