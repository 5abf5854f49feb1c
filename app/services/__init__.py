"""The business rules. Services take the database session and the actor explicitly, never read
`flask.request`, and flush without committing: the caller commits once."""
