import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // node-postgres optionally requires pg-native; keep it a plain Node require instead of bundling it.
  serverExternalPackages: ['pg'],
  poweredByHeader: false,
  // scripts/start.mjs (npm start) compresses at a cheaper level itself (scripts/compression.mjs).
  compress: process.env.ALTAVIZ_SERVER_COMPRESSION !== '1',
  // The dashboard runs on plant networks without internet: nothing may phone home.
  images: { unoptimized: true },
};

export default nextConfig;
