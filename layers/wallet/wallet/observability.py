"""One place for logging, tracing and metrics (Powertools).

The service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE, set in the template. Outside AWS they print JSON lines and
EMF blobs, which is harmless. Logs never carry document numbers or e-mail addresses.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

# Only what the app calls through: botocore (boto3 and PynamoDB 6, which sends through a
# botocore client) and http.client (the authorizer). Patching everything X-Ray knows would
# also import its PynamoDB patch (which loads botocore's HTTP session and urllib3) and
# sqlite3 at every cold start, for no subsegment the app would not already record.
TRACED_LIBRARIES = ("botocore", "httplib")

logger = Logger()
tracer = Tracer(patch_modules=TRACED_LIBRARIES)
metrics = Metrics()

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
