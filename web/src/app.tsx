import { createTheme, MantineProvider } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';
import { HomePage } from './home/home-page';
import { AppLayout } from './layout/app-layout';
import { RequireAdmin, RequireSignIn } from './layout/guards';
import { ForgotPasswordPage } from './pages/forgot-password-page';
import { LoginPage } from './pages/login-page';
import { NotFoundPage } from './pages/not-found-page';
import { ResetPasswordPage } from './pages/reset-password-page';
import { VerifyEmailPage } from './pages/verify-email-page';
import { RecordRoutes } from './records/record-routes';
import { ReportBuilderPage } from './reports/report-builder-page';
import { ReportsPage } from './reports/reports-page';
import { SessionProvider, useSession } from './session/session-context';
import { ApiManagementPage } from './settings/api-management-page';
import { AuditPage } from './settings/audit-page';
import { CompanySettingsPage } from './settings/company-settings-page';
import { MailroomPage } from './settings/mailroom-page';
import { MaskingPage } from './settings/masking-page';
import { OutboxPage } from './settings/outbox-page';
import { PreferencesPage } from './settings/preferences-page';
import { RolesPage } from './settings/roles-page';
import { SettingsHomePage } from './settings/settings-home-page';
import { SetupChecklistPage } from './settings/setup-checklist-page';
import { UserDetailPage } from './users/user-detail-page';
import { UsersPage } from './users/users-page';

const theme = createTheme({
  primaryColor: 'indigo',
  // people who ask their system for less motion get no animated dialogs or menus
  respectReducedMotion: true,
  defaultRadius: 'md',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
});

export function App() {
  return (
    <MantineProvider theme={theme}>
      <Notifications position="bottom-right" />
      <BrowserRouter>
        <SessionProvider>
          <Routes>
            <Route path="/login" element={<LoginPage />} />
            <Route path="/verify-email" element={<VerifyEmailPage />} />
            <Route path="/reset-password" element={<ResetPasswordPage />} />
            <Route path="/forgot-password" element={<ForgotPasswordPage />} />
            <Route element={<RequireSignIn />}>
              <Route element={<AppLayout />}>
                <Route index element={<HomeRedirect />} />
                <Route path="settings" element={<SettingsHomePage />} />
                <Route path="settings/preferences" element={<PreferencesPage />} />
                <Route element={<RequireAdmin />}>
                  <Route path="settings/users" element={<UsersPage />} />
                  <Route path="settings/users/:id" element={<UserDetailPage />} />
                  <Route path="settings/api-management" element={<ApiManagementPage />} />
                  <Route path="settings/api-management/:userId" element={<ApiManagementPage />} />
                  <Route path="settings/roles" element={<RolesPage />} />
                  <Route path="settings/masking" element={<MaskingPage />} />
                  <Route path="settings/company" element={<CompanySettingsPage />} />
                  <Route path="settings/audit" element={<AuditPage />} />
                  <Route path="settings/outbox" element={<OutboxPage />} />
                  <Route path="settings/mailroom" element={<MailroomPage />} />
                  <Route path="settings/setup-checklist" element={<SetupChecklistPage />} />
                </Route>
                <Route path="records/*" element={<RecordRoutes />} />
                <Route path="reports" element={<ReportsPage />} />
                <Route path="reports/:id" element={<ReportBuilderPage />} />
                <Route path="*" element={<NotFoundPage />} />
              </Route>
            </Route>
          </Routes>
        </SessionProvider>
      </BrowserRouter>
    </MantineProvider>
  );
}

/** Home (open deals, tickets, recent records) when this server has records, else Settings. */
function HomeRedirect() {
  const { can } = useSession();
  return can('records') ? <HomePage /> : <Navigate to="/settings" replace />;
}
