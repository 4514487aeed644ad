# comment
terraform {
  required_providers {
    azurerm = { source = "hashicorp/azurerm", version = "~> 3.0" }
  }
}
locals {
  n = 3
  f = 1.5
  cond = var.x ? "a" : "b"
  paren = (1 + 2)
  m = { a = 1, "b" = [1, 2] }
  list = [for s in var.l : upper(s)]
  t = true
  nul = null
  s = "x${var.y}z"
  esc = "a\"b\\c"
}
resource "azurerm_role_definition" "r" {
  for_each = toset(["a", "b"])
  name     = "role-${each.key}"
  scope    = data.azurerm_subscription.primary.id
  dynamic "permissions" {
    for_each = [1]
    content {
      actions = ["*"]
    }
  }
  lifecycle {
    ignore_changes = [description]
  }
  assignable_scopes = concat([data.azurerm_subscription.primary.id], var.extra)
  description = <<-EOT
    hello ${var.y}
  EOT
}
module "m" {
  source = "./mod"
}
