//! Roles and API-key scopes. Roles are ranked: each role may do everything the roles below it
//! may. An API key's scope maps to the role whose permissions it carries.
//!
//! | role | may |
//! |---|---|
//! | owner | everything, including making or removing owners |
//! | admin | manage people, teams, API keys, integrations and settings; replay and retry stages |
//! | supervisor | everything an agent may, and review and coach (QA) |
//! | agent | work the inbox: close tasks, take handoffs and callbacks, talk to the agent |
//! | viewer | read calls, charges, tasks and the store |
//!
//! | API key scope | acts as |
//! |---|---|
//! | `read` | viewer |
//! | `write` | admin |

use crate::Rejection;
use serde::{Deserialize, Serialize};

/// A person's role in a tenant, least to most powerful.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads.
    Viewer,
    /// A human support agent: takes handoffs and callbacks, works tasks.
    Agent,
    /// Leads agents: reviews and coaches.
    Supervisor,
    /// Runs the tenant's account.
    Admin,
    /// Owns the tenant.
    Owner,
}

impl Role {
    /// Every role, least to most powerful.
    pub const ALL: [Role; 5] = [
        Role::Viewer,
        Role::Agent,
        Role::Supervisor,
        Role::Admin,
        Role::Owner,
    ];

    /// The role's name as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// Parses a stored or sent role name.
    pub fn parse(name: &str) -> Result<Role, Rejection> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == name.trim())
            .ok_or_else(|| Rejection::InvalidField {
                field: "role",
                message: "must be one of owner, admin, supervisor, agent, viewer".into(),
            })
    }

    /// Allows the action when this role is `needed` or above.
    pub fn require(self, needed: Role) -> Result<(), Rejection> {
        if self >= needed {
            Ok(())
        } else {
            Err(Rejection::Forbidden {
                role: self.as_str(),
                needed: needed.as_str(),
            })
        }
    }
}

/// What an API key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read-only: acts as a viewer.
    Read,
    /// Read and change: acts as an admin.
    Write,
}

impl Scope {
    /// The scope's name as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }

    /// Parses a stored or sent scope name.
    pub fn parse(name: &str) -> Result<Scope, Rejection> {
        match name.trim() {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            _ => Err(Rejection::InvalidField {
                field: "scope",
                message: "must be 'read' or 'write'".into(),
            }),
        }
    }

    /// The role whose permissions the scope carries.
    pub fn role(self) -> Role {
        match self {
            Scope::Read => Role::Viewer,
            Scope::Write => Role::Admin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_rank_and_parse() {
        assert!(Role::Owner > Role::Admin && Role::Admin > Role::Supervisor);
        assert!(Role::Supervisor > Role::Agent && Role::Agent > Role::Viewer);
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        assert!(Role::parse("root").is_err());
        assert!(Role::Admin.require(Role::Supervisor).is_ok());
        assert_eq!(
            Role::Viewer.require(Role::Agent),
            Err(Rejection::Forbidden {
                role: "viewer",
                needed: "agent"
            })
        );
    }

    #[test]
    fn scopes_map_to_roles() {
        assert_eq!(Scope::parse("read").unwrap().role(), Role::Viewer);
        assert_eq!(Scope::parse("write").unwrap().role(), Role::Admin);
        assert!(Scope::parse("admin").is_err());
    }
}
