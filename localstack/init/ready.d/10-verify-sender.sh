#!/bin/bash
# LocalStack init hook (ready stage): verify the sender's SES identity, as the template's
# AWS::SES::EmailIdentity does on AWS, so e-mails go out as soon as the app is deployed.
set -euo pipefail
awslocal ses verify-email-identity --email-address "${WALLET_SENDER_EMAIL:-no-reply@wallet.example.com}"
