data "azurerm_subscription" "current" {
}

resource "azurerm_management_group" "example" {
  display_name = "ParentGroup"

  subscription_ids = [
    data.azurerm_subscription.current.subscription_id,
  ]
}

resource "azurerm_role_definition" "example" {
  name        = "example-mg-role"
  scope       = azurerm_management_group.example.id
  description = "Example custom role scoped to a management group."

  permissions {
    actions = ["Microsoft.Insights/alertRules/*",
    ]
    not_actions = []
  }

  assignable_scopes = [
    azurerm_management_group.example.id
  ]
}
