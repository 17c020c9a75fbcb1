"""Scoring the platform's judgements against labelled cases: the listing → parcel resolver and the
listing-text extractors."""
