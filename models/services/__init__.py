"""Units of work over the tables: each commits or joins a Session (see models/__init__)."""
