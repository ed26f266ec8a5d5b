"""Adapters: the wallet's edges to DynamoDB, HTTP services and AWS."""
