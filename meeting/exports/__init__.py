"""Writers for what organizers download and publish."""
