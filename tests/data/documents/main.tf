data "azurerm_subscription" "primary" {}

variable "rg_name" {
  default = "ml-rg"
}

locals {
  read_actions = ["Microsoft.Compute/virtualMachines/read"]
}

resource "azurerm_role_definition" "vm_operator" {
  name        = "TF VM Operator"
  scope       = data.azurerm_subscription.primary.id
  description = "Starts VMs; \"quoted\" text"

  permissions {
    actions     = ["Microsoft.Compute/virtualMachines/start/action", "Microsoft.Compute/virtualMachines/runCommand/action"]
    not_actions = []
  }

  assignable_scopes = [
    data.azurerm_subscription.primary.id,
    "${data.azurerm_subscription.primary.id}/resourceGroups/${var.rg_name}",
  ]
}

resource "azurerm_role_definition" "reader" {
  name  = "TF Reader"
  scope = "/subscriptions/11111111-2222-3333-4444-555555555555"

  permissions {
    actions = local.read_actions
  }
  permissions {
    actions     = ["Microsoft.Compte/disks/read"]
    data_actions = [lower("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read")]
  }
}

resource "azurerm_resource_group" "other" {
  name     = "rg"
  location = "westeurope"
}
