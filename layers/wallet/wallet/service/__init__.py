"""Use cases: what the wallet does, in terms of the domain and the stores."""
