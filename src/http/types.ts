import type { User } from '../users/user.model.js';

export type RouteAccess = 'public' | 'authenticated' | 'admin';

export interface AuthState {
  user: User;
  method: 'session' | 'access-key';
  session?: { id: number; csrfToken: string };
  /** the key that authenticated the request, when method is 'access-key' */
  keyId?: number;
  /** set while an admin is logged in as this user */
  impersonator?: { id: number; username: string };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; every route must say. */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    auth: AuthState | null;
  }
}

export interface RegisteredRoute {
  method: string;
  url: string;
  access: RouteAccess;
}
