"""One blueprint per resource: home, consultations, cases, handling, forms, sync, town, api."""
