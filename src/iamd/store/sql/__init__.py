"""SQLAlchemy Core repositories, one module per aggregate; each takes an open connection."""
