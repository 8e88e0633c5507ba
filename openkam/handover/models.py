"""Knowledge transfer: reassigning a leaving team member's accounts, relationships, actions and plans (issue 4)."""
