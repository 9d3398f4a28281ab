"""Proofs a third party can check without trusting archiver: RFC 3161 timestamp tokens."""
