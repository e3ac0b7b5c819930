"""Privacy: retention (the purge and its daily job), incidents kept under the Wet politiegegevens, subject
access exports and the erasure of a beheerder. The top domain layer: it reads every domain's tables."""
