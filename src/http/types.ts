import type { FastifyRequest } from 'fastify';
import type { User } from '../users/user.model.js';

export type RouteAccess = 'public' | 'authenticated' | 'admin';

export interface AuthState {
  user: User;
  method: 'session' | 'access-key';
  session?: { id: number; csrfToken: string };
  /** the key that authenticated the request, when method is 'access-key' */
  keyId?: number;
  /** set while an admin is logged in as `user` ("log in as"): the admin behind the requests */
  impersonator?: { id: number; username: string };
  /** when the "log in as" session returns to the admin (epoch ms) */
  impersonationExpiresAt?: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; every route must say. */
    access?: RouteAccess;
    /** a credential of the route's own accepted instead of a user's (the metrics scraper's token) */
    alternativeCredential?: (req: FastifyRequest) => boolean;
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
