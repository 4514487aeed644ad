provider "azurerm" {
  features {}
}

data "azurerm_subscription" "primary" {
}

resource "azurerm_resource_group" "test" {
  name     = "acctestRG-1234"
  location = "westeurope"
}

resource "azurerm_role_definition" "test" {
  role_definition_id = "00000000-1111-2222-3333-444444444444"
  name               = "acctestrd-1234"
  scope              = data.azurerm_subscription.primary.id

  permissions {
    actions     = ["*"]
    not_actions = []
  }

  assignable_scopes = [
    azurerm_resource_group.test.id
  ]
}
