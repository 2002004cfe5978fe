//! Every action the interface can perform, with a stable name (used in keymap files, the help
//! screen and the command palette) and a one-line description.

macro_rules! actions {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// A named action. Keys map to actions; screens handle actions.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $(#[doc = $doc] $variant,)*
        }

        impl Action {
            /// Every action, in help order.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The stable name, e.g. `user.add`.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }

            /// One line saying what it does.
            pub fn doc(self) -> &'static str {
                match self { $(Action::$variant => $doc,)* }
            }

            /// Looks an action up by name.
            pub fn from_name(name: &str) -> Option<Action> {
                match name { $($name => Some(Action::$variant),)* _ => None }
            }
        }
    };
}

actions! {
    Quit => "app.quit", "Quit staffctl (asks first if a form has unsaved input)";
    Help => "app.help", "Show the keys of this screen and every action";
    Palette => "app.palette", "Open the command palette: run any action by name";
    Lock => "app.lock", "Lock the screen now (log in again to continue)";
    ShowMessage => "app.message", "Show the whole status message";
    Activate => "app.activate", "On the login screen: activate an invited account with its code";
    NextTab => "app.next_tab", "Go to the next tab";
    PrevTab => "app.prev_tab", "Go to the previous tab";
    TabUsers => "tab.users", "Go to the Users tab";
    TabRoles => "tab.roles", "Go to the Roles tab";
    TabFacilities => "tab.facilities", "Go to the Facilities tab";
    TabInvites => "tab.invites", "Go to the Invites tab";
    TabDevices => "tab.devices", "Go to the Devices tab";
    TabAudit => "tab.audit", "Go to the Audit tab";
    TabSettings => "tab.settings", "Go to the Settings tab";
    Up => "list.up", "Move the selection up";
    Down => "list.down", "Move the selection down";
    PageUp => "list.page_up", "Move the selection up one page";
    PageDown => "list.page_down", "Move the selection down one page";
    Top => "list.top", "Go to the first row";
    Bottom => "list.bottom", "Go to the last row";
    Filter => "list.filter", "Filter the list by typing; input.accept keeps the filter, input.cancel clears it";
    Sort => "list.sort", "Sort by the next column";
    SortReverse => "list.sort_reverse", "Reverse the sort order";
    Open => "list.open", "Open the selected row";
    Back => "list.back", "Go back / close";
    Refresh => "list.refresh", "Reload from the store";
    FilterStatus => "filter.status", "Cycle the status filter";
    FilterRole => "filter.role", "Cycle the role filter";
    FilterFacility => "filter.facility", "Cycle the facility filter";
    FilterClear => "filter.clear", "Clear every filter";
    UserAdd => "user.add", "Add a user";
    UserEdit => "user.edit", "Edit the selected user";
    UserDeactivate => "user.deactivate", "Deactivate the selected user (asks for a reason)";
    UserReactivate => "user.reactivate", "Reactivate the selected user";
    UserDelete => "user.delete", "Delete the selected user (only if never activated)";
    UserAccess => "user.access", "Edit which facilities the selected user can access";
    UserUnlock => "user.unlock", "Unlock the selected user after failed logins";
    UserDetailsNext => "user.details_next", "Show the next page of the selected user's details in the pane";
    UserDetailsPrev => "user.details_prev", "Show the previous page of the selected user's details in the pane";
    RoleAdd => "role.add", "Add a role";
    RoleEdit => "role.edit", "Edit the selected role's permissions";
    RoleRename => "role.rename", "Rename the selected role";
    RoleDelete => "role.delete", "Delete the selected role (only if unassigned)";
    FacilityAdd => "facility.add", "Add a facility";
    FacilityEdit => "facility.edit", "Edit the selected facility";
    FacilityArchive => "facility.archive", "Archive or restore the selected facility";
    FacilityAccess => "facility.access", "Show who can access the selected facility";
    InviteResend => "invite.resend", "Send the selected invitation again with a new code";
    InviteRevoke => "invite.revoke", "Withdraw the selected pending invitation";
    DeviceApprove => "device.approve", "Approve the selected device";
    DeviceDecline => "device.decline", "Decline the selected pending device";
    DeviceRevoke => "device.revoke", "Revoke the selected approved device";
    AuditFilter => "audit.filter", "Filter the audit log by actor, action, target and dates";
    AuditExport => "audit.export", "Export the audit log to a CSV or JSON-lines file";
    AuditVerify => "audit.verify", "Verify the audit hash chain now";
    SettingsEdit => "settings.edit", "Edit practice settings and policies";
    FormNext => "form.next", "Next field";
    FormPrev => "form.prev", "Previous field";
    FormToggle => "form.toggle", "Toggle a switch or cycle a choice";
    FormSubmit => "form.submit", "Save the form";
    FormCancel => "form.cancel", "Cancel (asks first if something changed)";
    FormChoiceNext => "form.choice_next", "Pick the next option of a choice (or switch a toggle)";
    FormChoicePrev => "form.choice_prev", "Pick the previous option of a choice (or switch a toggle)";
    ConfirmYes => "confirm.yes", "Answer yes to the question shown";
    ConfirmNo => "confirm.no", "Answer no to the question shown and close it";
    InputAccept => "input.accept", "In the / filter: keep it; in the palette: run the chosen action";
    InputCancel => "input.cancel", "In the / filter: clear it; in the palette: close it";
    InputNext => "input.next", "In the / filter: move the selection down; in the palette: the next match";
    InputPrev => "input.prev", "In the / filter: move the selection up; in the palette: the previous match";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut names: Vec<_> = Action::ALL.iter().map(|a| a.name()).collect();
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(*a));
            assert!(a.name().contains('.'));
        }
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
