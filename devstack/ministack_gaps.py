"""The ONE place where the project closes gaps of ministack 1.5.33, the local AWS.

``python -m devstack.ministack_gaps`` runs ministack with the fixes below applied; the
functions, the template and the tests are the same as on AWS. Each gap is written down,
with a minimal reproduction that could be reported upstream, in docs/local-stack.md.

Gaps closed here:
- G7: with PERSIST_STATE=1, stream read positions are restored after a restart but the
  stream records are not, so the first N new records of each table are silently skipped.
  Fix: do not restore DynamoDB stream positions; mappings start again from the (empty)
  restored stream's trim horizon, and the sweeper re-drives whatever was in flight.

Gaps closed in the template instead (valid on AWS too): HTTP API routes are declared as
AWS::ApiGatewayV2 resources, since ministack builds none from an OpenAPI body.
"""

from typing import Any

from ministack.app import main as ministack_main
from ministack.services import lambda_svc


def apply() -> None:
    restore_positions = lambda_svc._restore_esm_positions

    def restore_all_but_dynamodb_streams(store: Any, positions: Any) -> None:
        if store is lambda_svc._dynamodb_stream_positions:
            return
        restore_positions(store, positions)

    lambda_svc._restore_esm_positions = restore_all_but_dynamodb_streams


def main() -> None:
    apply()
    ministack_main()


if __name__ == "__main__":
    main()
