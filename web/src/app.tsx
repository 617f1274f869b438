import {
  type CSSVariablesResolver,
  createTheme,
  Drawer,
  darken,
  defaultVariantColorsResolver,
  MantineProvider,
  Modal,
  parseThemeColor,
  type VariantColorResolverResult,
  type VariantColorsResolverInput,
} from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { lazy, Suspense } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';
import { FullPageLoader } from './components/loading-state';
import { RequireAdmin, RequireSignIn } from './layout/guards';
import { ForgotPasswordPage } from './pages/forgot-password-page';
import { LoginPage } from './pages/login-page';
import { NotFoundPage } from './pages/not-found-page';
import { ResetPasswordPage } from './pages/reset-password-page';
import { VerifyEmailPage } from './pages/verify-email-page';
import { SessionProvider, useSession } from './session/session-context';

// Everything behind sign-in loads on demand, so the sign-in page's first load is React, Mantine and the form.
const HomePage = lazy(() => import('./home/home-page').then((m) => ({ default: m.HomePage })));
const RecordRoutes = lazy(() => import('./records/record-routes').then((m) => ({ default: m.RecordRoutes })));
const ReportBuilderPage = lazy(() =>
  import('./reports/report-builder-page').then((m) => ({ default: m.ReportBuilderPage })),
);
const ReportsPage = lazy(() => import('./reports/reports-page').then((m) => ({ default: m.ReportsPage })));
const ApiManagementPage = lazy(() =>
  import('./settings/api-management-page').then((m) => ({ default: m.ApiManagementPage })),
);
const AuditPage = lazy(() => import('./settings/audit-page').then((m) => ({ default: m.AuditPage })));
const CompanySettingsPage = lazy(() =>
  import('./settings/company-settings-page').then((m) => ({ default: m.CompanySettingsPage })),
);
const MailroomPage = lazy(() =>
  import('./settings/mailroom-page').then((m) => ({ default: m.MailroomPage })),
);
const MaskingPage = lazy(() => import('./settings/masking-page').then((m) => ({ default: m.MaskingPage })));
const OutboxPage = lazy(() => import('./settings/outbox-page').then((m) => ({ default: m.OutboxPage })));
const PreferencesPage = lazy(() =>
  import('./settings/preferences-page').then((m) => ({ default: m.PreferencesPage })),
);
const RolesPage = lazy(() => import('./settings/roles-page').then((m) => ({ default: m.RolesPage })));
const SettingsHomePage = lazy(() =>
  import('./settings/settings-home-page').then((m) => ({ default: m.SettingsHomePage })),
);
const SetupChecklistPage = lazy(() =>
  import('./settings/setup-checklist-page').then((m) => ({ default: m.SetupChecklistPage })),
);
const UserDetailPage = lazy(() =>
  import('./users/user-detail-page').then((m) => ({ default: m.UserDetailPage })),
);
const UsersPage = lazy(() => import('./users/users-page').then((m) => ({ default: m.UsersPage })));
const AppLayout = lazy(() => import('./layout/app-layout').then((m) => ({ default: m.AppLayout })));

/**
 * The "light" variant (badges, alerts, light buttons) writes a colour's shade 6 to 9 on its own pale tint:
 * yellow 9 on yellow is 2.68:1. Its text is that colour's darkest shade darkened by a third (≥ 4.5:1 on the
 * tint for every Mantine colour), so a badge keeps its hue and is readable.
 */
function accessibleVariants(input: VariantColorsResolverInput): VariantColorResolverResult {
  const base = defaultVariantColorsResolver(input);
  if (input.variant !== 'light') return base;
  const parsed = parseThemeColor({ color: input.color || input.theme.primaryColor, theme: input.theme });
  const deepest = parsed.isThemeColor
    ? (input.theme.colors[parsed.color]?.[9] ?? parsed.value)
    : parsed.value;
  const text = darken(deepest, 0.35);
  return { ...base, color: text, hoverColor: text };
}

const theme = createTheme({
  primaryColor: 'indigo',
  // WCAG 2.2 AA: indigo 6 (#4c6ef5) is 4.32:1 on white, too light for links and white button text;
  // indigo 8 (#3b5bdb) is 5.67:1
  primaryShade: 8,
  variantColorResolver: accessibleVariants,
  // the × of every dialog and drawer is a button a screen reader must be able to name
  components: {
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } }),
    Drawer: Drawer.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } }),
  },
  // people who ask their system for less motion get no animated dialogs or menus
  respectReducedMotion: true,
  defaultRadius: 'md',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
});

/** Mantine's dimmed grey (gray 6, 3.32:1 on white) fails AA contrast; #5c636a is 6.09:1 and still reads as secondary. */
const cssVariables: CSSVariablesResolver = () => ({
  variables: {},
  // red 6 (#fa5252) for field errors is 3.28:1; red 9 is 5.4:1
  light: { '--mantine-color-dimmed': '#5c636a', '--mantine-color-error': '#c92a2a' },
  dark: {},
});

export function App() {
  return (
    <MantineProvider theme={theme} cssVariablesResolver={cssVariables}>
      <Notifications position="bottom-right" />
      <BrowserRouter>
        <SessionProvider>
          <Suspense fallback={<FullPageLoader />}>
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
          </Suspense>
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
