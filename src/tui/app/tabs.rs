//! The tabs and the screen behind each.

use super::*;

/// The tabs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Staff users.
    Users,
    /// Roles and permissions.
    Roles,
    /// Facilities.
    Facilities,
    /// Invitations.
    Invites,
    /// Device approvals.
    Devices,
    /// Audit log.
    Audit,
    /// Practice settings.
    Settings,
}

impl Tab {
    /// Every tab in order.
    pub const ALL: [Tab; 7] = [
        Tab::Users,
        Tab::Roles,
        Tab::Facilities,
        Tab::Invites,
        Tab::Devices,
        Tab::Audit,
        Tab::Settings,
    ];

    /// Title.
    pub fn title(self) -> &'static str {
        match self {
            Self::Users => "Users",
            Self::Roles => "Roles",
            Self::Facilities => "Facilities",
            Self::Invites => "Invites",
            Self::Devices => "Devices",
            Self::Audit => "Audit",
            Self::Settings => "Settings",
        }
    }

    /// Keymap section.
    pub fn section(self) -> Section {
        match self {
            Self::Users => Section::Users,
            Self::Roles => Section::Roles,
            Self::Facilities => Section::Facilities,
            Self::Invites => Section::Invites,
            Self::Devices => Section::Devices,
            Self::Audit => Section::Audit,
            Self::Settings => Section::Settings,
        }
    }

    pub(super) fn index(self) -> usize {
        Self::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// The screen of every tab.
#[derive(Debug, Default)]
pub struct Screens {
    /// Users tab.
    pub users: UsersScreen,
    /// Roles tab.
    pub roles: RolesScreen,
    /// Facilities tab.
    pub facilities: FacilitiesScreen,
    /// Invites tab.
    pub invites: InvitesScreen,
    /// Devices tab.
    pub devices: DevicesScreen,
    /// Audit tab.
    pub audit: AuditScreen,
    /// Settings tab.
    pub settings: SettingsScreen,
}

impl Screens {
    /// The screen of `tab`.
    pub fn get(&self, tab: Tab) -> &dyn Screen {
        match tab {
            Tab::Users => &self.users,
            Tab::Roles => &self.roles,
            Tab::Facilities => &self.facilities,
            Tab::Invites => &self.invites,
            Tab::Devices => &self.devices,
            Tab::Audit => &self.audit,
            Tab::Settings => &self.settings,
        }
    }

    /// The screen of `tab`, to change.
    pub fn get_mut(&mut self, tab: Tab) -> &mut dyn Screen {
        match tab {
            Tab::Users => &mut self.users,
            Tab::Roles => &mut self.roles,
            Tab::Facilities => &mut self.facilities,
            Tab::Invites => &mut self.invites,
            Tab::Devices => &mut self.devices,
            Tab::Audit => &mut self.audit,
            Tab::Settings => &mut self.settings,
        }
    }
}
