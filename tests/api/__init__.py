"""The HTTP API through the functions' real Lambda handlers, on ministack's DynamoDB."""
