"""The only code that reads or writes files."""
