// Operator routes (admin key) of reconciliation files (architecture §13): a PSP settlement report,
// an acquirer's answer or a camt.053 statement, uploaded as the raw body and streamed into
// ingestion (never buffered whole: a report may have a million lines); the file and its
// quarantined rows read back.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Readable } from 'node:stream';
import {
  ReconciliationFileSchema,
  ReconciliationQuarantinedRowSchema,
  errorResponses,
  list,
  listOf,
  presentQuarantinedRow,
  presentReconciliationFile,
} from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { IdParams } from '../schemas.ts';

const UploadQuery = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255, description: 'The file name, as kept.' }),
    format: Type.Optional(
      Type.Union(
        (
          [
            'stripe_balance_transactions',
            'adyen_settlement_csv',
            'razorpay_recon',
            'acquirer_ack',
            'camt053',
          ] as const
        ).map((format) => Type.Literal(format)),
        { description: 'Told from the content when not given.' },
      ),
    ),
    connector: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 40,
        pattern: '^[a-z0-9_]+$',
        description: 'The PSP of a report (razorpay and paytm share a format).',
      }),
    ),
  },
  { additionalProperties: false },
);

const QuarantineQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 100 }),
    after_line: Type.Integer({ minimum: 0, maximum: 2_147_483_647, default: 0 }),
  },
  { additionalProperties: false },
);

export function registerReconciliationFileRoutes(
  app: FastifyInstance,
  context: RouteContext,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['reconciliation'];
  const files = context.reconciliationFiles;

  // The upload's own scope: every content type is handed on as the raw stream; ingestion bounds
  // the bytes itself.
  app.register(async (upload) => {
    upload.removeAllContentTypeParsers();
    upload.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    upload.withTypeProvider<TypeBoxTypeProvider>().post(
      '/v1/reconciliation/files',
      {
        schema: {
          tags,
          summary: 'Upload a PSP report, an acquirer answer or a camt.053 statement (the raw body)',
          querystring: UploadQuery,
          response: {
            200: ReconciliationFileSchema,
            201: ReconciliationFileSchema,
            ...errorResponses,
          },
        },
      },
      async (request, reply) => {
        const body = request.body as Readable | undefined;
        if (body === undefined)
          throw new ApiError('parameter_missing', 'The file is the request body.', 'body');
        const result = await files.ingestUpload({
          name: request.query.name,
          format: request.query.format,
          connector: request.query.connector,
          body,
        });
        return reply.code(result.created ? 201 : 200).send(presentReconciliationFile(result.file));
      },
    );
  });

  typed.get(
    '/v1/reconciliation/files/:id',
    {
      schema: {
        tags,
        summary: 'A reconciliation file: its counts, or why it could not be read',
        params: IdParams,
        response: { 200: ReconciliationFileSchema, ...errorResponses },
      },
    },
    async (request) => {
      const file = await files.get(request.params.id);
      if (file === undefined)
        throw new ApiError(
          'resource_missing',
          `No such reconciliation file: '${request.params.id}'`,
          'id',
        );
      return presentReconciliationFile(file);
    },
  );

  typed.get(
    '/v1/reconciliation/files/:id/quarantine',
    {
      schema: {
        tags,
        summary: "A file's quarantined rows in line order (page on with after_line)",
        params: IdParams,
        querystring: QuarantineQuery,
        response: { 200: listOf(ReconciliationQuarantinedRowSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      if ((await files.get(id)) === undefined)
        throw new ApiError('resource_missing', `No such reconciliation file: '${id}'`, 'id');
      const { limit, after_line: afterLine } = request.query;
      const rows = await files.quarantine(id, afterLine, limit + 1);
      return list(
        rows.slice(0, limit).map(presentQuarantinedRow),
        rows.length > limit,
        `/v1/reconciliation/files/${id}/quarantine`,
      );
    },
  );
}
