# The configuration tests/e2e/test_terraform.py applies to a real iamd with the
# hashicorp/aws provider. `var.stage` is "one" for the first apply and "two" for the
# update: every resource that can change in place changes something in "two".

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

variable "endpoint" {
  type = string
}

variable "access_key" {
  type = string
}

variable "secret_key" {
  type      = string
  sensitive = true
}

variable "stage" {
  type    = string
  default = "one"
}

locals {
  two = var.stage == "two"
}

provider "aws" {
  region     = "us-east-1"
  access_key = var.access_key
  secret_key = var.secret_key

  # The provider validates the credentials and finds the account with STS
  # GetCallerIdentity against iamd; only the region list and the instance metadata
  # service (neither of which iamd is) are skipped.
  skip_region_validation  = true
  skip_metadata_api_check = true

  endpoints {
    iam = var.endpoint
    sts = var.endpoint
  }
}

data "aws_caller_identity" "me" {}

data "aws_iam_policy_document" "read" {
  statement {
    sid       = "ReadTheBucket"
    actions   = local.two ? ["s3:GetObject", "s3:ListBucket", "s3:GetObjectTagging"] : ["s3:GetObject", "s3:ListBucket"]
    resources = ["arn:aws:s3:::tf-bucket", "arn:aws:s3:::tf-bucket/*"]
  }
}

data "aws_iam_policy_document" "boundary" {
  statement {
    actions   = ["s3:*", "sqs:*"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.me.account_id}:root"]
    }
    dynamic "condition" {
      for_each = local.two ? [1] : []
      content {
        test     = "StringEquals"
        variable = "sts:ExternalId"
        values   = ["tf-external-id"]
      }
    }
  }
}

data "aws_iam_policy_document" "inline" {
  statement {
    actions   = local.two ? ["sqs:SendMessage", "sqs:ReceiveMessage"] : ["sqs:SendMessage"]
    resources = ["arn:aws:sqs:us-east-1:${data.aws_caller_identity.me.account_id}:tf-queue"]
  }
}

# Users, groups and memberships.

resource "aws_iam_user" "alice" {
  name = "tf-alice"
  path = "/tf/"
  # The provider lists and deletes the user's keys, certificates, SSH keys, MFA devices,
  # login profile and service-specific credentials before DeleteUser.
  force_destroy = true
  tags          = local.two ? { team = "blue", stage = "two" } : { team = "red" }
}

resource "aws_iam_user" "bob" {
  name                 = "tf-bob"
  permissions_boundary = local.two ? aws_iam_policy.boundary.arn : null
}

resource "aws_iam_group" "devs" {
  name = "tf-devs"
  path = local.two ? "/tf/two/" : "/tf/"
}

resource "aws_iam_group" "ops" {
  name = "tf-ops"
}

resource "aws_iam_group" "oncall" {
  name = "tf-oncall"
}

resource "aws_iam_group_membership" "devs" {
  name  = "tf-devs-membership"
  group = aws_iam_group.devs.name
  users = local.two ? [aws_iam_user.alice.name, aws_iam_user.bob.name] : [aws_iam_user.alice.name]
}

resource "aws_iam_user_group_membership" "bob" {
  user   = aws_iam_user.bob.name
  groups = local.two ? [aws_iam_group.ops.name, aws_iam_group.oncall.name] : [aws_iam_group.ops.name]
}

# Managed policies and their attachments.

resource "aws_iam_policy" "read" {
  name        = "tf-read"
  path        = "/tf/"
  description = "Read the bucket"
  policy      = data.aws_iam_policy_document.read.json
  tags        = local.two ? { stage = "two" } : { stage = "one" }
}

resource "aws_iam_policy" "boundary" {
  name   = "tf-boundary"
  policy = data.aws_iam_policy_document.boundary.json
}

resource "aws_iam_user_policy_attachment" "alice_read" {
  user       = aws_iam_user.alice.name
  policy_arn = aws_iam_policy.read.arn
}

resource "aws_iam_group_policy_attachment" "devs_read" {
  group      = aws_iam_group.devs.name
  policy_arn = aws_iam_policy.read.arn
}

resource "aws_iam_role_policy_attachment" "app_read" {
  role       = aws_iam_role.app.name
  policy_arn = aws_iam_policy.read.arn
}

resource "aws_iam_policy" "shared" {
  name   = "tf-shared"
  policy = data.aws_iam_policy_document.inline.json
}

# Exclusive over every entity the policy is attached to. ListEntitiesForPolicy, which
# the provider reads it with, also names whoever has the policy as a permissions
# boundary: so a policy of its own, not the boundary.
resource "aws_iam_policy_attachment" "shared" {
  name       = "tf-shared-attachment"
  policy_arn = aws_iam_policy.shared.arn
  groups     = [aws_iam_group.ops.name]
  users      = local.two ? [aws_iam_user.bob.name] : []
}

resource "aws_iam_group_policy_attachments_exclusive" "devs" {
  group_name  = aws_iam_group.devs.name
  policy_arns = [aws_iam_group_policy_attachment.devs_read.policy_arn]
}

resource "aws_iam_role_policy_attachments_exclusive" "app" {
  role_name   = aws_iam_role.app.name
  policy_arns = [aws_iam_role_policy_attachment.app_read.policy_arn]
}

# Inline policies.

resource "aws_iam_user_policy" "alice_inline" {
  name   = "tf-alice-inline"
  user   = aws_iam_user.alice.name
  policy = data.aws_iam_policy_document.inline.json
}

resource "aws_iam_group_policy" "devs_inline" {
  name   = "tf-devs-inline"
  group  = aws_iam_group.devs.name
  policy = data.aws_iam_policy_document.inline.json
}

resource "aws_iam_role_policy" "app_inline" {
  name   = "tf-app-inline"
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.inline.json
}

resource "aws_iam_user_policies_exclusive" "alice" {
  user_name    = aws_iam_user.alice.name
  policy_names = [aws_iam_user_policy.alice_inline.name]
}

resource "aws_iam_role_policies_exclusive" "app" {
  role_name    = aws_iam_role.app.name
  policy_names = [aws_iam_role_policy.app_inline.name]
}

# Credentials.

resource "aws_iam_access_key" "alice" {
  user   = aws_iam_user.alice.name
  status = local.two ? "Inactive" : "Active"
}

resource "aws_iam_user_ssh_key" "alice" {
  username   = aws_iam_user.alice.name
  encoding   = "SSH"
  public_key = file("${path.module}/ssh_key.pub")
  status     = local.two ? "Inactive" : "Active"
}

resource "aws_iam_user_login_profile" "alice" {
  user                    = aws_iam_user.alice.name
  password_length         = 24
  password_reset_required = true
}

resource "aws_iam_signing_certificate" "alice" {
  user_name        = aws_iam_user.alice.name
  certificate_body = file("${path.module}/signing.pem")
  status           = local.two ? "Inactive" : "Active"
}

resource "aws_iam_virtual_mfa_device" "alice" {
  virtual_mfa_device_name = "tf-alice-mfa"
  path                    = "/tf/"
  tags                    = local.two ? { stage = "two" } : { stage = "one" }
}

# Roles.

resource "aws_iam_role" "app" {
  name                 = "tf-app"
  path                 = "/tf/"
  description          = local.two ? "The application, second stage" : "The application"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = local.two ? 7200 : 3600
  permissions_boundary = local.two ? aws_iam_policy.boundary.arn : null
  tags                 = local.two ? { stage = "two", team = "blue" } : { stage = "one" }
}

resource "aws_iam_instance_profile" "app" {
  name = "tf-app-profile"
  path = "/tf/"
  role = aws_iam_role.app.name
  tags = local.two ? { stage = "two" } : { stage = "one" }
}

resource "aws_iam_service_linked_role" "autoscaling" {
  aws_service_name = "autoscaling.amazonaws.com"
  custom_suffix    = "tf"
  description      = local.two ? "Scaling, second stage" : "Scaling"
}

# Server certificates.

resource "aws_iam_server_certificate" "web" {
  name              = "tf-web"
  path              = "/tf/"
  certificate_body  = file("${path.module}/server.pem")
  certificate_chain = file("${path.module}/chain.pem")
  private_key       = file("${path.module}/server.key")
  tags              = local.two ? { stage = "two" } : { stage = "one" }
}

# Identity providers.

resource "aws_iam_openid_connect_provider" "ci" {
  url             = "https://token.ci.example.com/tf"
  client_id_list  = local.two ? ["sts.amazonaws.com", "tf-second-client"] : ["sts.amazonaws.com"]
  thumbprint_list = local.two ? ["bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"] : ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]
  tags            = local.two ? { stage = "two" } : { stage = "one" }
}

resource "aws_iam_saml_provider" "corp" {
  name                   = "tf-corp"
  saml_metadata_document = file("${path.module}/${local.two ? "saml-two.xml" : "saml-one.xml"}")
  tags                   = local.two ? { stage = "two" } : { stage = "one" }
}

# CodeCommit's HTTPS git credentials.

resource "aws_iam_service_specific_credential" "git" {
  service_name = "codecommit.amazonaws.com"
  user_name    = aws_iam_user.alice.name
  status       = local.two ? "Inactive" : "Active"
}

# The account.

resource "aws_iam_account_alias" "alias" {
  account_alias = local.two ? "tf-account-two" : "tf-account-one"
}

resource "aws_iam_account_password_policy" "strict" {
  minimum_password_length        = local.two ? 16 : 14
  require_lowercase_characters   = true
  require_uppercase_characters   = true
  require_numbers                = true
  require_symbols                = local.two
  allow_users_to_change_password = true
  max_password_age               = local.two ? 60 : 90
  password_reuse_prevention      = 5
}

# PENDING (issue 16, being built now): aws_iam_openid_connect_provider,
# aws_iam_saml_provider and aws_iam_service_specific_credential go here once iamd
# serves them; add them to COVERED_RESOURCES in test_terraform.py too.

# Data sources that read back what was created.

data "aws_iam_user" "alice" {
  user_name = aws_iam_user.alice.name
}

data "aws_iam_role" "app" {
  name = aws_iam_role.app.name
}

data "aws_iam_policy" "read" {
  arn = aws_iam_policy.read.arn
}

data "aws_iam_group" "devs" {
  group_name = aws_iam_group_membership.devs.group
}

data "aws_iam_instance_profile" "app" {
  name = aws_iam_instance_profile.app.name
}

data "aws_iam_server_certificate" "web" {
  name   = aws_iam_server_certificate.web.name
  latest = true
}

data "aws_iam_account_alias" "current" {
  depends_on = [aws_iam_account_alias.alias]
}

data "aws_iam_users" "tf" {
  path_prefix = "/tf/"
  depends_on  = [aws_iam_user.alice, aws_iam_user.bob]
}

data "aws_iam_roles" "tf" {
  name_regex = "^tf-"
  depends_on = [aws_iam_role.app]
}

data "aws_iam_session_context" "me" {
  arn = data.aws_caller_identity.me.arn
}

output "group_members" {
  value = sort([for u in data.aws_iam_group.devs.users : u.user_name])
}

output "instance_profile_role" {
  value = data.aws_iam_instance_profile.app.role_name
}

output "server_certificate_arn" {
  value = data.aws_iam_server_certificate.web.arn
}

output "account_alias" {
  value = data.aws_iam_account_alias.current.account_alias
}

output "users_under_tf" {
  value = sort(tolist(data.aws_iam_users.tf.names))
}

output "roles_named_tf" {
  value = sort(tolist(data.aws_iam_roles.tf.names))
}

output "session_issuer" {
  value = data.aws_iam_session_context.me.issuer_arn
}

output "account_id" {
  value = data.aws_caller_identity.me.account_id
}

output "caller_arn" {
  value = data.aws_caller_identity.me.arn
}

output "alice" {
  value = {
    arn     = data.aws_iam_user.alice.arn
    user_id = data.aws_iam_user.alice.user_id
    path    = data.aws_iam_user.alice.path
    tags    = data.aws_iam_user.alice.tags
  }
}

output "role" {
  value = {
    arn                  = data.aws_iam_role.app.arn
    description          = data.aws_iam_role.app.description
    max_session_duration = data.aws_iam_role.app.max_session_duration
  }
}

output "policy" {
  value = {
    arn    = data.aws_iam_policy.read.arn
    policy = data.aws_iam_policy.read.policy
  }
}

output "access_key_id" {
  value = aws_iam_access_key.alice.id
}

output "service_linked_role" {
  value = aws_iam_service_linked_role.autoscaling.name
}

output "oidc_provider" {
  value = {
    arn         = aws_iam_openid_connect_provider.ci.arn
    client_ids  = aws_iam_openid_connect_provider.ci.client_id_list
    thumbprints = aws_iam_openid_connect_provider.ci.thumbprint_list
  }
}

output "saml_provider" {
  value = {
    arn         = aws_iam_saml_provider.corp.arn
    valid_until = aws_iam_saml_provider.corp.valid_until
  }
}

output "git_credential" {
  value = {
    id        = aws_iam_service_specific_credential.git.service_specific_credential_id
    user_name = aws_iam_service_specific_credential.git.service_user_name
    status    = aws_iam_service_specific_credential.git.status
  }
}
