"""Markets: the counties a deployment covers and the zone its days are counted in (data/markets.yaml)."""
