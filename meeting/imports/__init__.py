"""Reading files that organizers bring (CSV, XLSX)."""
