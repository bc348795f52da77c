// The merchant routes of payments: intents, refunds, charges, payment methods, the balance and
// reviews,
// one file each; registered together (the merchant-isolation test covers every route registered
// here).
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.ts';
import { registerBalanceRoutes } from './balance.ts';
import { registerChargeRoutes } from './charges.ts';
import { registerPaymentIntentRoutes } from './payment-intents.ts';
import { registerPaymentMethodRoutes } from './payment-methods.ts';
import { registerRefundRoutes } from './refunds.ts';
import { registerReviewRoutes } from './reviews.ts';

export function registerPaymentRoutes(app: FastifyInstance, context: RouteContext): void {
  registerPaymentIntentRoutes(app, context);
  registerRefundRoutes(app, context);
  registerChargeRoutes(app, context);
  registerPaymentMethodRoutes(app, context);
  registerBalanceRoutes(app, context);
  registerReviewRoutes(app, context);
}
