"""Framework-free core: tables, sessions, domain rules and errors."""
