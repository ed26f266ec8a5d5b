"""The wallet's domain: rules about customers and money, with no I/O."""
