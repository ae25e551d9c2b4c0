"""Pure meeting logic: no Flask, no database, no I/O."""
