"""What archiver hands on: reports, verification, exports."""
